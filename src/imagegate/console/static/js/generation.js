// generation page
