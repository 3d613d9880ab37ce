"""ЕНП, the unified policy number (единый номер полиса ОМС): 16 digits, the last a control digit.

Where the algorithm comes from: the ЕНП is assigned by the unified register of insured persons
(ЕРЗЛ) of the federal fund (ФФОМС); its structure (region, birth date, sex and a sequence
number in coded form, then a control digit) is set in the fund's technical rules for the
register, which are not public. No authoritative public text of the control-digit rule was
found (searched: «единый номер полиса контрольная цифра алгоритм»). This module implements the
variant published by regional funds and medical information-system vendors, a Luhn-like rule:

1. of the first 15 digits, take those in odd positions counted from the right (the 15th,
   13th, ..., 1st digits from the left), read right to left, as one number, and double it;
2. write the digits in even positions (14th, 12th, ..., 2nd from the left), read right to
   left, before the doubled number;
3. add up all the digits of the resulting string;
4. the control digit is (10 − sum mod 10) mod 10.

If a region's register holds numbers this rule rejects, the register's data is the truth: the
loader (`journal.register_files`) reports such rows and loads them, and the card and the
secretary only refuse a typed number that fails the check (a typing error).
"""

from __future__ import annotations

ENP_LENGTH = 16


def control_digit(first15: str) -> int:
    """The control digit for the first 15 digits of an ЕНП."""
    if len(first15) != ENP_LENGTH - 1 or not first15.isdigit():
        raise ValueError("ЕНП: нужны первые 15 цифр")
    odd = first15[::-2]  # the 15th, 13th, ..., 1st digits: right to left
    even = first15[-2::-2]  # the 14th, 12th, ..., 2nd digits: right to left
    number = even + str(int(odd) * 2)
    total = sum(int(d) for d in number)
    return (10 - total % 10) % 10


def is_valid(enp: str) -> bool:
    """Whether `enp` is 16 digits whose last is the control digit of the others."""
    return (len(enp) == ENP_LENGTH and enp.isdigit()
            and control_digit(enp[:-1]) == int(enp[-1]))


def normalize(text: str | None) -> str:
    """Digits only (spaces and dashes typed for readability dropped)."""
    return "".join(ch for ch in (text or "") if ch.isdigit())


def problem(text: str | None) -> str | None:
    """Why `text` is not a usable ЕНП, in Russian, or None when it is one."""
    digits = normalize(text)
    if len(digits) != ENP_LENGTH or len(digits) != len((text or "").replace(" ", "").replace("-", "")):
        return "ЕНП должен состоять из 16 цифр"
    if not is_valid(digits):
        return "ЕНП набран с ошибкой: не сходится контрольная цифра"
    return None
