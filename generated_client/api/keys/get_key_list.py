from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.gateway_error import GatewayError
from ...models.key_list_response import KeyListResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    page_no: int | Unset = 1,
    page_size: int | Unset = 100,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["pageNo"] = page_no

    params["pageSize"] = page_size

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/keys",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> GatewayError | KeyListResponse | None:
    if response.status_code == 200:
        response_200 = KeyListResponse.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = GatewayError.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = GatewayError.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = GatewayError.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = GatewayError.from_dict(response.json())

        return response_404

    if response.status_code == 413:
        response_413 = GatewayError.from_dict(response.json())

        return response_413

    if response.status_code == 429:
        response_429 = GatewayError.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = GatewayError.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = GatewayError.from_dict(response.json())

        return response_503

    if response.status_code == 504:
        response_504 = GatewayError.from_dict(response.json())

        return response_504

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[GatewayError | KeyListResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    page_no: int | Unset = 1,
    page_size: int | Unset = 100,
) -> Response[GatewayError | KeyListResponse]:
    """List the account's keys, one page at a time

    Args:
        page_no (int | Unset):  Default: 1.
        page_size (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GatewayError | KeyListResponse]
    """

    kwargs = _get_kwargs(
        page_no=page_no,
        page_size=page_size,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    page_no: int | Unset = 1,
    page_size: int | Unset = 100,
) -> GatewayError | KeyListResponse | None:
    """List the account's keys, one page at a time

    Args:
        page_no (int | Unset):  Default: 1.
        page_size (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GatewayError | KeyListResponse
    """

    return sync_detailed(
        client=client,
        page_no=page_no,
        page_size=page_size,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    page_no: int | Unset = 1,
    page_size: int | Unset = 100,
) -> Response[GatewayError | KeyListResponse]:
    """List the account's keys, one page at a time

    Args:
        page_no (int | Unset):  Default: 1.
        page_size (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GatewayError | KeyListResponse]
    """

    kwargs = _get_kwargs(
        page_no=page_no,
        page_size=page_size,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    page_no: int | Unset = 1,
    page_size: int | Unset = 100,
) -> GatewayError | KeyListResponse | None:
    """List the account's keys, one page at a time

    Args:
        page_no (int | Unset):  Default: 1.
        page_size (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GatewayError | KeyListResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            page_no=page_no,
            page_size=page_size,
        )
    ).parsed
