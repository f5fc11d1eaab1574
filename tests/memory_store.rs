//! The in-memory store holds a million outstanding refresh tokens in under
//! 200 MiB, counted by the allocator (no timing involved).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use tower_simplejwt::store::{MemoryTokenStore, RecordedToken, TokenStore};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const TOKENS: u64 = 1_000_000;

#[test]
fn a_million_outstanding_refresh_tokens_in_under_200_mib() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let store = MemoryTokenStore::new();
    let before = LIVE.load(Ordering::SeqCst);
    runtime.block_on(async {
        for i in 0..TOKENS {
            // One token per user, the worst case: no subject is shared.
            let jti = format!("{:032x}", (u128::from(i) << 64) | 0x4000_8000_0000_0000);
            let token = RecordedToken::new(jti, format!("user-{i}"), 1_800_000_000 + i);
            store.record(token).await.unwrap();
        }
    });
    let used = LIVE.load(Ordering::SeqCst) - before;
    assert_eq!(store.len() as u64, TOKENS);
    let mib = used as f64 / (1024.0 * 1024.0);
    println!(
        "{TOKENS} outstanding refresh tokens: {mib:.1} MiB ({} bytes each)",
        used as u64 / TOKENS
    );
    assert!(mib < 200.0, "{mib:.1} MiB");
}
