"""Neural volumes: readers (VolumeData), the AMGSRN model, training and bricks."""
