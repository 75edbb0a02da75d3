"""Many runs: one replication to its tables (``runner``), tasks mapped over executors
(``execution``, ``executors``, ``store``), the experiments built on them (``analyses``:
compare, paired differences, sweeps, attribution, sensitivity studies), the changes they
apply (``designs``, ``sensitivity``) and calibration (``calibration``)."""
