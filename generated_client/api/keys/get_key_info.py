from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.gateway_error import GatewayError
from ...models.key_info_response import KeyInfoResponse
from ...types import Response


def _get_kwargs(
    key_tag: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/keys/{key_tag}".format(
            key_tag=quote(str(key_tag), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> GatewayError | KeyInfoResponse | None:
    if response.status_code == 200:
        response_200 = KeyInfoResponse.from_dict(response.json())

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
) -> Response[GatewayError | KeyInfoResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    key_tag: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[GatewayError | KeyInfoResponse]:
    """Read one key

    Args:
        key_tag (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GatewayError | KeyInfoResponse]
    """

    kwargs = _get_kwargs(
        key_tag=key_tag,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    key_tag: str,
    *,
    client: AuthenticatedClient | Client,
) -> GatewayError | KeyInfoResponse | None:
    """Read one key

    Args:
        key_tag (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GatewayError | KeyInfoResponse
    """

    return sync_detailed(
        key_tag=key_tag,
        client=client,
    ).parsed


async def asyncio_detailed(
    key_tag: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[GatewayError | KeyInfoResponse]:
    """Read one key

    Args:
        key_tag (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GatewayError | KeyInfoResponse]
    """

    kwargs = _get_kwargs(
        key_tag=key_tag,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    key_tag: str,
    *,
    client: AuthenticatedClient | Client,
) -> GatewayError | KeyInfoResponse | None:
    """Read one key

    Args:
        key_tag (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GatewayError | KeyInfoResponse
    """

    return (
        await asyncio_detailed(
            key_tag=key_tag,
            client=client,
        )
    ).parsed
