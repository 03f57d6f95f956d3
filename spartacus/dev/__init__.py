"""Development helpers, not used at run time: ``make up`` (``devnet``) and ``make build``
(``build``, the contract compiler). Nothing in the runtime package imports them."""
