"""What the model reads, strictly validated: treaty variants (``provisions``), worlds
(``world``, ``distributions``, ``sources``), the reading of files (``schema``), the shipped
scenarios (``catalogue``) and the provisions matrix (``matrix``)."""
