//! The FFI the trace mechanism (src/trace/) needs: shared memory with an LWLock, latches, and
//! background workers (registration, connection, transactions). Every `unsafe` block here says
//! why it is sound; src/trace/ holds the logic and no `unsafe` of its own.

pub mod bgw;
pub mod latch;
pub mod proc;
pub mod shmem;
