"""The ЕНП control digit (journal.enp): the published Luhn-like rule, and what it catches."""

from __future__ import annotations

import pytest

from journal import enp

# Real-looking numbers (region 22, Altai krai) made valid by the rule.
VALID = ("2250123456789018", "2200000000000004", "2268549730001137")


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers_pass(number: str) -> None:
    """A number whose last digit is the rule's control digit passes."""
    assert enp.is_valid(number)
    assert enp.problem(number) is None


def test_the_rule_step_by_step() -> None:
    """Odd positions from the right (15th, 13th, ...) as a number doubled, the even ones
    before it, the digits added up, and the complement to ten."""
    first15 = "225012345678901"
    odd = first15[14] + first15[12] + first15[10] + first15[8] + first15[6] + first15[4] + first15[2] + first15[0]
    even = first15[13] + first15[11] + first15[9] + first15[7] + first15[5] + first15[3] + first15[1]
    total = sum(int(d) for d in even + str(int(odd) * 2))
    assert enp.control_digit(first15) == (10 - total % 10) % 10 == 8


@pytest.mark.parametrize("number", VALID)
def test_one_wrong_digit_is_caught(number: str) -> None:
    """Any single mistyped digit makes the number fail."""
    for position in range(16):
        for digit in "0123456789":
            if digit != number[position]:
                typo = number[:position] + digit + number[position + 1:]
                assert not enp.is_valid(typo), typo


def test_problems_are_said_in_russian() -> None:
    """Wrong length or letters, and a wrong control digit, each have their sentence."""
    assert enp.problem("12345") == "ЕНП должен состоять из 16 цифр"
    assert enp.problem("22501234567890AB") == "ЕНП должен состоять из 16 цифр"
    assert enp.problem("2250123456789012") == "ЕНП набран с ошибкой: не сходится контрольная цифра"
    assert enp.problem("2250 1234 5678 9018") is None
