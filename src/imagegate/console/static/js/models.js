// models page
