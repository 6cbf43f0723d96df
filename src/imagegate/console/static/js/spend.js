// spend page
