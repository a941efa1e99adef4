"""Upflow's GET /bank_accounts: the organization's bank accounts (the book's, each with its own ledger
account), whose `id` a payment or a refund names as `bankAccountId` to post its cash there."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from comptoir.domain.query import ListQuery
from comptoir.services.settlement.banking import BANK_ACCOUNTS

from .customers import _unit, page

BANK_ACCOUNTS_PAGE_MAX = 500

router = APIRouter()


def render_bank_account(bank_account: Any) -> dict:
    return {"id": str(bank_account.id), "name": bank_account.name, "currency": bank_account.currency_iso_code,
            "accountNumber": bank_account.account_number or None}


@router.get("/bank_accounts", tags=["bank_accounts"])
async def list_bank_accounts(request: Request) -> JSONResponse:
    offset, limit = page(request, BANK_ACCOUNTS_PAGE_MAX)

    def work(book):
        query = ListQuery((), (), offset, limit)
        rows, _ = BANK_ACCOUNTS.list(book, query)
        return {"offset": offset, "limit": limit, "total": BANK_ACCOUNTS.count(book, query),
                "items": [render_bank_account(row) for row in rows]}

    return JSONResponse(await _unit(request, work, reads=True))
