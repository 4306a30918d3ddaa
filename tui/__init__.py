"""chipclear's interfaces: the command line (``cli``) and the Textual interview
(``interview``). They import the core; the core never imports them."""
