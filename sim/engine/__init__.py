"""The simulation: the Mesa model around one SimPy clock (``model``), its actors
(``actors``), the request's procedure (``procedure``), the rules that govern it
(``routing``), the cases drawn up front (``casebook``, ``request``) and the ledger of every
request (``ledger``, ``eventlog``)."""
