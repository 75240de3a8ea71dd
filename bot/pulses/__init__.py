"""EASY/VALUE pulses: schedules, rounds, anonymous answers, results (SPEC §3)."""
