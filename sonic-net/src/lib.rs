//! Networking for sonic: TCP, UDP, Unix sockets and a UDP multicast peer (work in progress).
