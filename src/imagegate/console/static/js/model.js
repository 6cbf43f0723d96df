// model page
