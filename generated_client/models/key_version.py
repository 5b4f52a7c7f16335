from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.key_version_status import KeyVersionStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="KeyVersion")


@_attrs_define
class KeyVersion:
    """
    Attributes:
        version (int):
        status (KeyVersionStatus):
        status_date (int | Unset): Milliseconds since the epoch.
        rotated_date (int | Unset): Milliseconds since the epoch.
    """

    version: int
    status: KeyVersionStatus
    status_date: int | Unset = UNSET
    rotated_date: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        version = self.version

        status = self.status.value

        status_date = self.status_date

        rotated_date = self.rotated_date

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "version": version,
                "status": status,
            }
        )
        if status_date is not UNSET:
            field_dict["statusDate"] = status_date
        if rotated_date is not UNSET:
            field_dict["rotatedDate"] = rotated_date

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        version = d.pop("version")

        status = KeyVersionStatus(d.pop("status"))

        status_date = d.pop("statusDate", UNSET)

        rotated_date = d.pop("rotatedDate", UNSET)

        key_version = cls(
            version=version,
            status=status,
            status_date=status_date,
            rotated_date=rotated_date,
        )

        key_version.additional_properties = d
        return key_version

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
