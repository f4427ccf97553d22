"""The adaptive card the cards sample shows: a flight itinerary (our own content)."""

from __future__ import annotations

from typing import Any


def _leg(code: str, city: str, time: str) -> dict[str, Any]:
    return {
        "type": "Column",
        "width": 1,
        "items": [
            {"type": "TextBlock", "text": city, "isSubtle": True},
            {"type": "TextBlock", "text": code, "size": "ExtraLarge", "color": "Accent"},
            {"type": "TextBlock", "text": time, "spacing": "None"},
        ],
    }


ITINERARY_CARD: dict[str, Any] = {
    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
    "type": "AdaptiveCard",
    "version": "1.0",
    "body": [
        {"type": "TextBlock", "text": "Passengers", "weight": "Bolder"},
        {"type": "TextBlock", "text": "Sarah Hum", "separator": True},
        {"type": "TextBlock", "text": "Jeremy Goldberg", "spacing": "None"},
        {"type": "TextBlock", "text": "2 Stops", "weight": "Bolder", "spacing": "Medium"},
        {
            "type": "ColumnSet",
            "separator": True,
            "columns": [
                _leg("SFO", "San Francisco", "Tue, May 30, 2017 10:25 PM"),
                _leg("AMS", "Amsterdam", "Wed, May 31, 2017 6:45 PM"),
            ],
        },
        {
            "type": "ColumnSet",
            "separator": True,
            "columns": [
                _leg("AMS", "Amsterdam", "Fri, Jun 2, 2017 1:55 PM"),
                _leg("SFO", "San Francisco", "Fri, Jun 2, 2017 3:20 PM"),
            ],
        },
        {
            "type": "ColumnSet",
            "spacing": "Medium",
            "columns": [
                {"type": "Column", "width": 1, "items": [{"type": "TextBlock", "text": "Total"}]},
                {
                    "type": "Column",
                    "width": 1,
                    "items": [
                        {
                            "type": "TextBlock",
                            "text": "$4,032.54",
                            "horizontalAlignment": "Right",
                            "size": "Medium",
                            "weight": "Bolder",
                        }
                    ],
                },
            ],
        },
    ],
}
