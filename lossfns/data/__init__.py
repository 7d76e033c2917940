"""Data shipped with the course: the worked backprop network and the text corpus."""
