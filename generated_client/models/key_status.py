from enum import StrEnum


class KeyStatus(StrEnum):
    DISABLE = "DISABLE"
    ENABLE = "ENABLE"
    REVOKE = "REVOKE"

    def __str__(self) -> str:
        return str(self.value)
