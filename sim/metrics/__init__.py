"""What a run shows: one observation path from a model to its tables (``observe``), the
metrics computed from the event log (``summary``), every metric's name, label and kind
(``registry``), and text tables of them (``report``)."""
