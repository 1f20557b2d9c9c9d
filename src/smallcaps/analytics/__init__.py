"""Pure functions of frames: frames in, frames or small typed results out. No I/O."""
