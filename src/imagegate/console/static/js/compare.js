// compare page
