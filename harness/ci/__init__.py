"""CI engines' side of a matrix run: the GitHub Actions workflow this project ships, and the job summary
and annotations its merge job writes (:mod:`.github`)."""
