from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.key_version_status import KeyVersionStatus

T = TypeVar("T", bound="KeyVersionStatusChange")


@_attrs_define
class KeyVersionStatusChange:
    """
    Attributes:
        version (int):
        status (KeyVersionStatus):
        status_date (int): Milliseconds since the epoch. Example: 1733460541703.
    """

    version: int
    status: KeyVersionStatus
    status_date: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        version = self.version

        status = self.status.value

        status_date = self.status_date

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "version": version,
                "status": status,
                "statusDate": status_date,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        version = d.pop("version")

        status = KeyVersionStatus(d.pop("status"))

        status_date = d.pop("statusDate")

        key_version_status_change = cls(
            version=version,
            status=status,
            status_date=status_date,
        )

        key_version_status_change.additional_properties = d
        return key_version_status_change

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
