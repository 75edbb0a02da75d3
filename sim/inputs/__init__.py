"""What the model reads: the closed vocabulary's files, strictly validated. Treaty variants
(``provisions``), worlds (``world``, ``distributions``, ``sources``), the reading of files
(``schema``), the shipped scenarios (``catalogue``) and the provisions matrix (``matrix``)."""
