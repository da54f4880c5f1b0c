//! Each customer's k most valuable offers (the algorithm behind `next_best_offer`).

use super::candidates::Choice;

/// Per customer, the first `min(k, room)` choices worth more than nothing.
pub fn top(customers: &[Vec<Choice>], room: &[usize], k: usize) -> Vec<Vec<Choice>> {
    customers
        .iter()
        .zip(room)
        .map(|(choices, &room)| {
            choices
                .iter()
                .filter(|c| c.value > 0.0)
                .take(k.min(room))
                .copied()
                .collect()
        })
        .collect()
}
