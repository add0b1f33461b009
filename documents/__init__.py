"""Official documents: the PDF kit shared by the release's hand-over record and the oversight reports."""
