"""The policy briefing: its runs (``brief``), its files (``pack``) and its charts
(``charts``)."""
