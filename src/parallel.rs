//! Work shared across the machine's cores for the CPU-bound passes after fetching (link
//! checks, grouping): each pass is a map over a batch of items or stories, cut into one
//! contiguous share per core, so the results come back in input order and every pass gives
//! exactly what running it in order gives.
//!
//! Plain scoped threads: the passes are few and long (tens of milliseconds over thousands
//! of stories), so a thread per share costs nothing next to them, and no pool or extra
//! dependency is needed.

/// Below this many inputs a share is not worth a thread.
const MIN_SHARE: usize = 512;

/// How many shares `n` inputs are cut into: one per core, and none smaller than
/// [`MIN_SHARE`].
fn shares(n: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    cores.min(n / MIN_SHARE).max(1)
}

/// `f` over contiguous shares of `items`, one per core, the results in share order.
pub(crate) fn map_shares<T: Sync, R: Send>(items: &[T], f: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    map_in_shares(items, shares(items.len()), f)
}

/// [`map_shares`] with the number of shares given (tests use it to cut a batch in more
/// shares than this machine has cores).
pub(crate) fn map_in_shares<T: Sync, R: Send>(
    items: &[T],
    shares: usize,
    f: impl Fn(&[T]) -> R + Sync,
) -> Vec<R> {
    if shares <= 1 || items.len() < 2 {
        return vec![f(items)];
    }
    let size = items.len().div_ceil(shares);
    // Every share gets a fresh thread and this one only waits: a fresh thread takes the next
    // free glibc malloc arena, while sharing this thread's arena would make both threads
    // queue on its lock at every allocation (which made the shares run slower than one
    // thread alone, in about half the runs).
    std::thread::scope(|scope| {
        let handles: Vec<_> = items.chunks(size).map(|c| scope.spawn(|| f(c))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// `f` on every item in place, on all cores.
pub(crate) fn for_each_mut<T: Send>(items: &mut [T], f: impl Fn(&mut T) + Sync) {
    let shares = shares(items.len());
    if shares <= 1 {
        items.iter_mut().for_each(f);
        return;
    }
    let size = items.len().div_ceil(shares);
    let f = &f;
    // Fresh threads, as in `map_in_shares`.
    std::thread::scope(|scope| {
        for share in items.chunks_mut(size) {
            scope.spawn(move || share.iter_mut().for_each(f));
        }
    });
}

/// `f` over every item, on all cores, in input order.
pub(crate) fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    map_shares(items, |share| share.iter().map(&f).collect::<Vec<R>>())
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_input_order_whatever_the_share_count() {
        for n in [0, 1, MIN_SHARE - 1, MIN_SHARE * 2 + 3, MIN_SHARE * 9 + 7] {
            let items: Vec<usize> = (0..n).collect();
            assert_eq!(
                map(&items, |i| i * 2),
                items.iter().map(|i| i * 2).collect::<Vec<_>>()
            );
            let mut doubled = items.clone();
            for_each_mut(&mut doubled, |i| *i *= 2);
            assert_eq!(doubled, map(&items, |i| i * 2));
            for shares in [1, 2, 3, 8] {
                let parts = map_in_shares(&items, shares, <[usize]>::to_vec);
                assert!(
                    parts.len() <= shares.max(1),
                    "{n} in {shares}: {}",
                    parts.len()
                );
                assert_eq!(parts.concat(), items);
            }
        }
    }
}
