//! Name frequencies of a real population: the 1990 US Census tables of first names (by sex)
//! and the 30,000 most common surnames (public domain; `scripts/census_names.py` writes them
//! from the copy the PyPI package `names` ships). Drawn with their real skew, a million people
//! share a first and last name about as often as a million Americans do.

use std::sync::OnceLock;

use rand::Rng;
use rand_pcg::Pcg64Mcg;

/// Names with cumulative weights, for drawing by binary search.
pub struct Pool {
    names: Vec<&'static str>,
    cumulative: Vec<u64>,
}

impl Pool {
    /// Parse `Name weight` lines.
    fn parse(text: &'static str) -> Self {
        let mut names = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0u64;
        for line in text.lines() {
            let (name, weight) = line
                .rsplit_once(' ')
                .expect("census tables are `Name weight` lines");
            total += weight
                .parse::<u64>()
                .expect("census weights are whole numbers");
            names.push(name);
            cumulative.push(total);
        }
        Self { names, cumulative }
    }

    /// One name, as often as its weight says.
    pub fn draw(&self, rng: &mut Pcg64Mcg) -> &'static str {
        let total = *self.cumulative.last().expect("census tables are not empty");
        let roll = rng.random_range(0..total);
        let index = self.cumulative.partition_point(|&c| c <= roll);
        self.names[index]
    }

    /// How many names the pool has.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the pool has no name (never, for the shipped tables).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The probability that two people drawn from the pool have the same name.
    pub fn collision(&self) -> f64 {
        let total = *self.cumulative.last().unwrap_or(&1) as f64;
        let mut previous = 0;
        let mut sum = 0.0;
        for &c in &self.cumulative {
            let p = (c - previous) as f64 / total;
            sum += p * p;
            previous = c;
        }
        sum
    }
}

/// Surnames of the 30,000 most common in 1990 (81.7 % of the population).
pub fn surnames() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool::parse(include_str!("census/surnames.txt")))
}

/// Women's first names.
pub fn female_first_names() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool::parse(include_str!("census/female_first_names.txt")))
}

/// Men's first names.
pub fn male_first_names() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool::parse(include_str!("census/male_first_names.txt")))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn draws_follow_the_census_skew() {
        let pool = surnames();
        assert_eq!(pool.len(), 30_000);
        let mut rng = Pcg64Mcg::seed_from_u64(7);
        let draws = 200_000;
        let smiths = (0..draws)
            .filter(|_| pool.draw(&mut rng) == "Smith")
            .count();
        // Smith is 1.006 % of all people, 1.23 % of those the 30,000 names cover.
        let share = smiths as f64 / draws as f64;
        assert!((0.0115..0.0131).contains(&share), "Smith share {share}");
    }

    #[test]
    fn a_shared_full_name_is_rare() {
        // Two random people share first and last name with odds of a few in a million, where
        // the 63 first names and 40 surnames the generator used before gave 1 in 5,000.
        let first = (female_first_names().collision() + male_first_names().collision()) / 4.0;
        let both = first * surnames().collision();
        assert!(both < 1e-5, "full-name collision {both}");
        assert!(
            female_first_names().len() > 4000 && male_first_names().len() > 1000,
            "the tables hold every name the Census listed"
        );
    }
}
