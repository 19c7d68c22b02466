"""Training data for NSS rendered by a small torch ray caster (see :mod:`.render`)."""
