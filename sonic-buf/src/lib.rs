//! Zero-copy FIFO byte buffers for sonic (work in progress).
