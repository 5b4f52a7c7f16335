from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="GatewayErrorDetail")


@_attrs_define
class GatewayErrorDetail:
    """
    Attributes:
        error_code (int | str): A string in NCP's documentation; some answers send a number.
        message (str):
        details (str | Unset):
    """

    error_code: int | str
    message: str
    details: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        error_code: int | str
        error_code = self.error_code

        message = self.message

        details = self.details

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "errorCode": error_code,
                "message": message,
            }
        )
        if details is not UNSET:
            field_dict["details"] = details

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_error_code(data: object) -> int | str:
            return cast(int | str, data)

        error_code = _parse_error_code(d.pop("errorCode"))

        message = d.pop("message")

        details = d.pop("details", UNSET)

        gateway_error_detail = cls(
            error_code=error_code,
            message=message,
            details=details,
        )

        gateway_error_detail.additional_properties = d
        return gateway_error_detail

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
