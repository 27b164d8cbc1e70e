//! One named shared-memory struct guarded by one LWLock of its own tranche.
//!
//! PostgreSQL 15 hands out shared memory only to libraries in `shared_preload_libraries`: the
//! space and the lock are requested in `shmem_request_hook` and the struct is found or created in
//! `shmem_startup_hook`, both in the postmaster (again after a crash restart). Backends and workers
//! are forked from it and inherit the pointer. Without preload the pointer stays null and
//! [`Shared::with`] returns `None` (the reduced mode).

use std::ffi::CStr;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicPtr, Ordering};

use pgrx::pg_sys;

/// A `T` in shared memory. `T` must be plain data (`#[repr(C)]`, `Copy`, no pointers into
/// process memory) for which all-zero bytes are a valid value: it is zeroed before `init` runs.
pub struct Shared<T: 'static> {
    name: &'static CStr,
    block: AtomicPtr<Block>,
    _t: PhantomData<T>,
}

#[repr(C)]
struct Block {
    lock: *mut pg_sys::LWLock,
    // followed by the T, at an offset aligned for it
}

impl<T: Copy + 'static> Shared<T> {
    pub const fn new(name: &'static CStr) -> Self {
        Shared {
            name,
            block: AtomicPtr::new(std::ptr::null_mut()),
            _t: PhantomData,
        }
    }

    fn data_offset() -> usize {
        let a = std::mem::align_of::<T>().max(std::mem::align_of::<Block>());
        std::mem::size_of::<Block>().div_ceil(a) * a
    }

    fn size() -> usize {
        Self::data_offset() + std::mem::size_of::<T>()
    }

    /// To be called from `shmem_request_hook` only.
    pub fn request(&self) {
        // SAFETY: called from the shmem_request_hook (see `install_hooks`), the one place where
        // PostgreSQL 15 accepts these requests; the name is a 'static C string.
        unsafe {
            pg_sys::RequestAddinShmemSpace(Self::size());
            pg_sys::RequestNamedLWLockTranche(self.name.as_ptr(), 1);
        }
    }

    /// To be called from `shmem_startup_hook` only: finds or creates the struct.
    pub fn startup(&self, init: fn(&mut T)) {
        // SAFETY: the startup hook runs in the postmaster (or a standalone backend) with shared
        // memory attached. AddinShmemInitLock (MainLWLockArray[21], lwlocknames.h) serialises
        // ShmemInitStruct among libraries, as PostgreSQL's own contrib modules do. The block is
        // Self::size() bytes as requested; it is zeroed and initialised only when just created
        // (`found` false), and T is plain data for which zero bytes are valid (type contract).
        // The named tranche was requested with one lock, so GetNamedLWLockTranche returns an
        // array of at least one LWLockPadded in shared memory.
        unsafe {
            let init_lock = &raw mut (*pg_sys::MainLWLockArray.add(21)).lock;
            pg_sys::LWLockAcquire(init_lock, pg_sys::LWLockMode::LW_EXCLUSIVE);
            let mut found = false;
            let raw =
                pg_sys::ShmemInitStruct(self.name.as_ptr(), Self::size(), &mut found).cast::<u8>();
            let block = raw.cast::<Block>();
            if !found {
                std::ptr::write_bytes(raw, 0, Self::size());
                (*block).lock = &raw mut (*pg_sys::GetNamedLWLockTranche(self.name.as_ptr())).lock;
                init(&mut *raw.add(Self::data_offset()).cast::<T>());
            }
            self.block.store(block, Ordering::Release);
            pg_sys::LWLockRelease(init_lock);
        }
    }

    /// Whether the struct exists (the library was preloaded).
    pub fn available(&self) -> bool {
        !self.block.load(Ordering::Acquire).is_null()
    }

    /// Runs `f` on the struct under its lock (exclusive); `None` without shared memory.
    /// `f` must not raise a PostgreSQL error or call into PostgreSQL: it runs under an LWLock
    /// (plain memory work only).
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let block = self.block.load(Ordering::Acquire);
        if block.is_null() {
            return None;
        }
        // SAFETY: a non-null block was set by `startup` and points into shared memory that stays
        // mapped for the life of the process; its lock is the tranche's LWLock. Holding it
        // exclusively makes this the only reference to the T in any process. If `f` panicked,
        // the guard releases the lock before the unwind goes on (LWLocks are also released by
        // PostgreSQL's error recovery, LWLockReleaseAll, should a longjmp pass by).
        unsafe {
            let lock = (*block).lock;
            pg_sys::LWLockAcquire(lock, pg_sys::LWLockMode::LW_EXCLUSIVE);
            struct Release(*mut pg_sys::LWLock);
            impl Drop for Release {
                fn drop(&mut self) {
                    // SAFETY: acquired just above by this process and not yet released.
                    unsafe { pg_sys::LWLockRelease(self.0) }
                }
            }
            let _release = Release(lock);
            let data = &mut *block.cast::<u8>().add(Self::data_offset()).cast::<T>();
            Some(f(data))
        }
    }
}

// SAFETY: the struct is only reached through `with`, under the LWLock; the AtomicPtr itself is
// Sync. (PostgreSQL backends are single-threaded; this only lets the value be a `static`.)
unsafe impl<T> Sync for Shared<T> {}

static mut PREV_REQUEST: pg_sys::shmem_request_hook_type = None;
static mut PREV_STARTUP: pg_sys::shmem_startup_hook_type = None;
static mut ON_REQUEST: Option<fn()> = None;
static mut ON_STARTUP: Option<fn()> = None;

/// Whether `_PG_init` is running from `shared_preload_libraries` (in the postmaster).
pub fn preloading() -> bool {
    // SAFETY: a plain bool global of the server, written only by the postmaster before it
    // loads the preload libraries.
    unsafe { pg_sys::process_shared_preload_libraries_in_progress }
}

/// Chains `request` and `startup` into the shared-memory hooks. Call once, from `_PG_init`
/// while preloading.
pub fn install_hooks(request: fn(), startup: fn()) {
    // SAFETY: _PG_init runs once per process, single-threaded, before any hook can fire; the
    // previous hooks are saved and called first, as PostgreSQL requires of hook chains.
    unsafe {
        ON_REQUEST = Some(request);
        ON_STARTUP = Some(startup);
        PREV_REQUEST = pg_sys::shmem_request_hook;
        pg_sys::shmem_request_hook = Some(on_request);
        PREV_STARTUP = pg_sys::shmem_startup_hook;
        pg_sys::shmem_startup_hook = Some(on_startup);
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn on_request() {
    // SAFETY: the statics were written once in install_hooks before this hook was installed;
    // the previous hook is a valid function set by another library (or None).
    unsafe {
        if let Some(prev) = PREV_REQUEST {
            prev();
        }
        if let Some(f) = ON_REQUEST {
            f();
        }
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn on_startup() {
    // SAFETY: as in on_request.
    unsafe {
        if let Some(prev) = PREV_STARTUP {
            prev();
        }
        if let Some(f) = ON_STARTUP {
            f();
        }
    }
}
