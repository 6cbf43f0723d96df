// playground page
