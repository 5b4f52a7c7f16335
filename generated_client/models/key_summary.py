from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.key_status import KeyStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="KeySummary")


@_attrs_define
class KeySummary:
    """
    Attributes:
        key_tag (str):
        status (KeyStatus):
        key_id (int | Unset):
        key_name (str | Unset):
        key_type (str | Unset):  Example: AES256.
        protection_type (str | Unset):  Example: BASIC.
        is_convergent (bool | Unset):
        register_date (int | Unset): Milliseconds since the epoch.
        destroy_date (int | None | Unset): Milliseconds since the epoch.
    """

    key_tag: str
    status: KeyStatus
    key_id: int | Unset = UNSET
    key_name: str | Unset = UNSET
    key_type: str | Unset = UNSET
    protection_type: str | Unset = UNSET
    is_convergent: bool | Unset = UNSET
    register_date: int | Unset = UNSET
    destroy_date: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        key_tag = self.key_tag

        status = self.status.value

        key_id = self.key_id

        key_name = self.key_name

        key_type = self.key_type

        protection_type = self.protection_type

        is_convergent = self.is_convergent

        register_date = self.register_date

        destroy_date: int | None | Unset
        if isinstance(self.destroy_date, Unset):
            destroy_date = UNSET
        else:
            destroy_date = self.destroy_date

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "keyTag": key_tag,
                "status": status,
            }
        )
        if key_id is not UNSET:
            field_dict["keyId"] = key_id
        if key_name is not UNSET:
            field_dict["keyName"] = key_name
        if key_type is not UNSET:
            field_dict["keyType"] = key_type
        if protection_type is not UNSET:
            field_dict["protectionType"] = protection_type
        if is_convergent is not UNSET:
            field_dict["isConvergent"] = is_convergent
        if register_date is not UNSET:
            field_dict["registerDate"] = register_date
        if destroy_date is not UNSET:
            field_dict["destroyDate"] = destroy_date

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        key_tag = d.pop("keyTag")

        status = KeyStatus(d.pop("status"))

        key_id = d.pop("keyId", UNSET)

        key_name = d.pop("keyName", UNSET)

        key_type = d.pop("keyType", UNSET)

        protection_type = d.pop("protectionType", UNSET)

        is_convergent = d.pop("isConvergent", UNSET)

        register_date = d.pop("registerDate", UNSET)

        def _parse_destroy_date(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        destroy_date = _parse_destroy_date(d.pop("destroyDate", UNSET))

        key_summary = cls(
            key_tag=key_tag,
            status=status,
            key_id=key_id,
            key_name=key_name,
            key_type=key_type,
            protection_type=protection_type,
            is_convergent=is_convergent,
            register_date=register_date,
            destroy_date=destroy_date,
        )

        key_summary.additional_properties = d
        return key_summary

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
