"""Sacred experiments, one per family (``qnn run <family>``); thin shells over ``qnn``."""
