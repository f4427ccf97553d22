"""Where the conversation is (the last question asked) and what the user answered."""

from __future__ import annotations

from enum import Enum


class Question(Enum):
    NAME = 1
    AGE = 2
    DATE = 3
    NONE = 4


class ConversationFlow:
    def __init__(self, last_question_asked: Question = Question.NONE) -> None:
        self.last_question_asked = last_question_asked


class UserProfile:
    def __init__(self, name: str | None = None, age: int = 0, date: str | None = None) -> None:
        self.name = name
        self.age = age
        self.date = date
