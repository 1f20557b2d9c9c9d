"""One module per publisher; each separates fetching bytes from parsing them (see ``base``)."""
