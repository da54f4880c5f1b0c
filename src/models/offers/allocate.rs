//! The allocation behind `allocate_offers(candidates, budget [, max_offers])`: the sends that earn most in total
//! within a budget, over the whole customer base.
//!
//! A multiple-choice knapsack: each customer may get up to `max_offers` of their offers (less
//! what the contact policy's period already used), every send costs its cost, and the total
//! cost may not pass the budget. Solved by Lagrangian relaxation: for a price λ on each unit
//! of budget, each customer independently takes their offers worth most at value − λ × cost
//! (when that is above 0); the smallest λ whose sends fit the budget is found by bisection,
//! and the budget it leaves is filled greedily with the remaining sends by value per cost.

use super::candidates::Choice;

/// Bisection steps on λ: the bracket shrinks by 2^-60, far below any cost's precision.
const STEPS: usize = 60;

/// The allocation: per customer, the chosen choices, most valuable first.
pub fn allocate(customers: &[Vec<Choice>], room: &[usize], budget: f64) -> Vec<Vec<Choice>> {
    let mut scratch = Vec::new();
    let spend = |lambda: f64, scratch: &mut Vec<usize>| -> f64 {
        customers
            .iter()
            .zip(room)
            .map(|(c, &r)| {
                pick(c, r, lambda, scratch);
                scratch.iter().map(|&i| c[i].cost).sum::<f64>()
            })
            .sum()
    };
    let lambda = if spend(0.0, &mut scratch) <= budget {
        0.0
    } else {
        // Above the best value per cost nothing that costs anything is worth sending.
        let mut high = customers
            .iter()
            .flatten()
            .filter(|c| c.cost > 0.0 && c.value > 0.0)
            .map(|c| (c.value + c.cost) / c.cost)
            .fold(1.0, f64::max);
        let mut low = 0.0;
        for _ in 0..STEPS {
            let mid = (low + high) / 2.0;
            if spend(mid, &mut scratch) <= budget {
                high = mid;
            } else {
                low = mid;
            }
        }
        high
    };
    let mut chosen: Vec<Vec<Choice>> = Vec::with_capacity(customers.len());
    let mut spent = 0.0;
    for (c, &r) in customers.iter().zip(room) {
        pick(c, r, lambda, &mut scratch);
        scratch.sort_unstable();
        chosen.push(scratch.iter().map(|&i| c[i]).collect());
        spent += scratch.iter().map(|&i| c[i].cost).sum::<f64>();
    }
    fill(customers, room, budget - spent, &mut chosen);
    // Most valuable first; the sort is stable, so ties keep the customers' order of choices.
    for c in chosen.iter_mut() {
        c.sort_by(|a, b| b.value.total_cmp(&a.value));
    }
    chosen
}

/// Into `out`, the indices of the at most `room` choices with the highest value − λ × cost
/// above 0.
fn pick(choices: &[Choice], room: usize, lambda: f64, out: &mut Vec<usize>) {
    out.clear();
    out.extend((0..choices.len()).filter(|&i| adjusted(&choices[i], lambda) > 0.0));
    if out.len() > room {
        out.sort_by(|&a, &b| {
            adjusted(&choices[b], lambda)
                .total_cmp(&adjusted(&choices[a], lambda))
                .then(a.cmp(&b))
        });
        out.truncate(room);
    }
}

fn adjusted(c: &Choice, lambda: f64) -> f64 {
    c.value - lambda * c.cost
}

/// Spend what is `left` on the sends not yet chosen, best value per cost first, where the
/// customer has room and the send fits.
fn fill(customers: &[Vec<Choice>], room: &[usize], mut left: f64, chosen: &mut [Vec<Choice>]) {
    let mut rest: Vec<(usize, Choice)> = customers
        .iter()
        .enumerate()
        .flat_map(|(k, c)| c.iter().map(move |choice| (k, *choice)))
        .filter(|(k, c)| c.value > 0.0 && !chosen[*k].iter().any(|x| x.row == c.row))
        .collect();
    // Best value per cost first; among equals the more valuable send, then the customers'
    // order (the sort is stable).
    rest.sort_by(|a, b| {
        (b.1.value / b.1.cost.max(f64::MIN_POSITIVE))
            .total_cmp(&(a.1.value / a.1.cost.max(f64::MIN_POSITIVE)))
            .then(b.1.value.total_cmp(&a.1.value))
    });
    for (k, c) in rest {
        if chosen[k].len() < room[k] && c.cost <= left {
            left -= c.cost;
            chosen[k].push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(row: usize, value: f64, cost: f64) -> Choice {
        Choice {
            row,
            value,
            cost,
            channel_rank: 0,
        }
    }

    #[test]
    fn by_hand() {
        // Two customers, one offer each at most. A: worth 5 for cost 4, or 3 for cost 1.
        // B: worth 2 for cost 1. Budget 2: A's cheap one and B's (value 5) beat A's dear one
        // alone (which does not fit anyway).
        let customers = vec![
            vec![choice(0, 5.0, 4.0), choice(1, 3.0, 1.0)],
            vec![choice(2, 2.0, 1.0)],
        ];
        let chosen = allocate(&customers, &[1, 1], 2.0);
        let rows: Vec<Vec<usize>> = chosen
            .iter()
            .map(|c| c.iter().map(|x| x.row).collect())
            .collect();
        assert_eq!(rows, vec![vec![1], vec![2]]);
        // A budget that pays for everything takes each customer's most valuable offer.
        let chosen = allocate(&customers, &[1, 1], 100.0);
        assert_eq!(chosen[0][0].row, 0);
        assert_eq!(chosen[1][0].row, 2);
        // No budget: only free sends.
        let free = vec![vec![choice(0, 1.0, 0.0), choice(1, 9.0, 3.0)]];
        let chosen = allocate(&free, &[1], 0.0);
        assert_eq!(chosen[0].len(), 1);
        assert_eq!(chosen[0][0].row, 0);
        // No room (the contact policy's period is used up): nothing.
        assert!(
            allocate(&customers, &[0, 0], 100.0)
                .iter()
                .all(Vec::is_empty)
        );
        // Never spends more than the budget.
        let many: Vec<Vec<Choice>> = (0..50)
            .map(|i| vec![choice(i, 1.0 + (i % 7) as f64, 0.5 + (i % 3) as f64)])
            .collect();
        let chosen = allocate(&many, &[1; 50], 20.0);
        let spent: f64 = chosen.iter().flatten().map(|c| c.cost).sum();
        assert!(spent <= 20.0, "{spent}");
        assert!(spent > 18.0, "{spent}");
    }
}
