//! weft-pipe
