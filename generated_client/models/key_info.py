from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.key_status import KeyStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="KeyInfo")


@_attrs_define
class KeyInfo:
    """
    Attributes:
        key_tag (str):
        status (KeyStatus):
        key_id (int | Unset):
        key_name (str | Unset):
        nrn (str | Unset):
        base_url (str | Unset):
        key_type (str | Unset):
        keystore_id (str | Unset):
        current_version (int | Unset):
        protection_type (str | Unset):
        register_date (int | Unset):
    """

    key_tag: str
    status: KeyStatus
    key_id: int | Unset = UNSET
    key_name: str | Unset = UNSET
    nrn: str | Unset = UNSET
    base_url: str | Unset = UNSET
    key_type: str | Unset = UNSET
    keystore_id: str | Unset = UNSET
    current_version: int | Unset = UNSET
    protection_type: str | Unset = UNSET
    register_date: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        key_tag = self.key_tag

        status = self.status.value

        key_id = self.key_id

        key_name = self.key_name

        nrn = self.nrn

        base_url = self.base_url

        key_type = self.key_type

        keystore_id = self.keystore_id

        current_version = self.current_version

        protection_type = self.protection_type

        register_date = self.register_date

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
        if nrn is not UNSET:
            field_dict["nrn"] = nrn
        if base_url is not UNSET:
            field_dict["baseUrl"] = base_url
        if key_type is not UNSET:
            field_dict["keyType"] = key_type
        if keystore_id is not UNSET:
            field_dict["keystoreId"] = keystore_id
        if current_version is not UNSET:
            field_dict["currentVersion"] = current_version
        if protection_type is not UNSET:
            field_dict["protectionType"] = protection_type
        if register_date is not UNSET:
            field_dict["registerDate"] = register_date

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        key_tag = d.pop("keyTag")

        status = KeyStatus(d.pop("status"))

        key_id = d.pop("keyId", UNSET)

        key_name = d.pop("keyName", UNSET)

        nrn = d.pop("nrn", UNSET)

        base_url = d.pop("baseUrl", UNSET)

        key_type = d.pop("keyType", UNSET)

        keystore_id = d.pop("keystoreId", UNSET)

        current_version = d.pop("currentVersion", UNSET)

        protection_type = d.pop("protectionType", UNSET)

        register_date = d.pop("registerDate", UNSET)

        key_info = cls(
            key_tag=key_tag,
            status=status,
            key_id=key_id,
            key_name=key_name,
            nrn=nrn,
            base_url=base_url,
            key_type=key_type,
            keystore_id=keystore_id,
            current_version=current_version,
            protection_type=protection_type,
            register_date=register_date,
        )

        key_info.additional_properties = d
        return key_info

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
