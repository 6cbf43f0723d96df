// keys page
