//! Even assignment (균등 할당): callbacks, taken in (request time, id) order, each go to the
//! selected agent with the fewest unfinished callbacks at that moment; ties go to the agent
//! selected first. Afterwards the agents' counts are as equal as the starting loads allow.

use std::{cmp::Reverse, collections::BinaryHeap};

/// For `callbacks` callbacks (already in assignment order) and the agents' current unfinished
/// counts (in tie-break order), the index of the agent each callback goes to.
pub fn plan_even(callbacks: usize, loads: &[i64]) -> Vec<usize> {
    if loads.is_empty() {
        return Vec::new();
    }
    let mut heap: BinaryHeap<Reverse<(i64, usize)>> = loads
        .iter()
        .enumerate()
        .map(|(index, load)| Reverse((*load, index)))
        .collect();
    (0..callbacks)
        .map(|_| {
            let Reverse((load, index)) = heap.pop().expect("the heap holds every agent");
            heap.push(Reverse((load + 1, index)));
            index
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule written the slow, obvious way: scan for the least loaded, first wins ties.
    fn reference(callbacks: usize, loads: &[i64]) -> Vec<usize> {
        let mut loads = loads.to_vec();
        (0..callbacks)
            .map(|_| {
                let (index, _) = loads
                    .iter()
                    .enumerate()
                    .min_by_key(|(index, load)| (**load, *index))
                    .unwrap();
                loads[index] += 1;
                index
            })
            .collect()
    }

    /// A small deterministic generator, so the property test needs no dependency and every
    /// run checks the same cases.
    struct XorShift(u64);

    impl XorShift {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    #[test]
    fn balanced_for_random_loads() {
        let mut random = XorShift(0x9E37_79B9_7F4A_7C15);
        for case in 0..2_000 {
            let agents = 1 + random.below(12) as usize;
            let loads: Vec<i64> = (0..agents).map(|_| random.below(30) as i64).collect();
            let callbacks = random.below(80) as usize;
            let plan = plan_even(callbacks, &loads);
            assert_eq!(plan, reference(callbacks, &loads), "case {case}");

            let mut after = loads.clone();
            for index in &plan {
                after[*index] += 1;
            }
            let total: i64 = after.iter().sum();
            assert_eq!(total, loads.iter().sum::<i64>() + callbacks as i64);
            let lowest = *after.iter().min().unwrap();
            for (index, count) in after.iter().enumerate() {
                // Whoever received a callback ends at most one above the least loaded agent;
                // an agent who received none was already above the level the others reached.
                if after[index] > loads[index] {
                    assert!(*count <= lowest + 1, "case {case}: {loads:?} → {after:?}");
                }
            }
        }
    }

    #[test]
    fn least_loaded_first_and_ties_in_selection_order() {
        assert_eq!(plan_even(4, &[2, 0, 0]), [1, 2, 1, 2]);
        assert_eq!(plan_even(5, &[0, 0, 0]), [0, 1, 2, 0, 1]);
        assert_eq!(plan_even(3, &[]), Vec::<usize>::new());
    }
}
