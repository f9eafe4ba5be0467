import asyncio


async def test_async_ok():
    t = asyncio.create_task(asyncio.sleep(0))
    await t


def test_sync_ok():
    assert True
