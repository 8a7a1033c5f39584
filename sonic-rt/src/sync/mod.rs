//! Local (`!Send`) synchronisation primitives: oneshot, mpsc and Notify.
