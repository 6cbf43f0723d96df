// history page
