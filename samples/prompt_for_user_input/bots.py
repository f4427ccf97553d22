"""CustomPromptBot: asks its questions in turn, validating each answer before the next."""

from __future__ import annotations

import datetime
from typing import Any

from samples.prompt_for_user_input.data_models import ConversationFlow, Question, UserProfile
from worker.bot import ActivityHandler, ConversationState, MessageFactory, TurnContext, UserState
from worker.bot.dialogs.choices import recognize_number
from worker.bot.dialogs.prompts import recognize_datetime

ENGLISH = "en-us"


class ValidationResult:
    def __init__(self, is_valid: bool = False, value: Any = None, message: str | None = None):
        self.is_valid = is_valid
        self.value = value
        self.message = message


class CustomPromptBot(ActivityHandler):
    def __init__(self, conversation_state: ConversationState, user_state: UserState) -> None:
        if conversation_state is None or user_state is None:
            raise TypeError("[CustomPromptBot]: conversation_state and user_state are required")
        self.conversation_state = conversation_state
        self.user_state = user_state
        self.flow_accessor = conversation_state.create_property("ConversationFlow")
        self.profile_accessor = user_state.create_property("UserProfile")

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        profile = await self.profile_accessor.get(turn_context, UserProfile)
        flow = await self.flow_accessor.get(turn_context, ConversationFlow)
        await self._fill_out_user_profile(flow, profile, turn_context)
        await self.conversation_state.save_changes(turn_context)
        await self.user_state.save_changes(turn_context)

    async def _fill_out_user_profile(
        self, flow: ConversationFlow, profile: UserProfile, turn_context: TurnContext
    ) -> None:
        user_input = (turn_context.activity.text or "").strip()

        async def say(*texts: str) -> None:
            for text in texts:
                await turn_context.send_activity(MessageFactory.text(text))

        if flow.last_question_asked == Question.NONE:
            await say("Let's get started. What is your name?")
            flow.last_question_asked = Question.NAME
            return
        validators = {
            Question.NAME: self._validate_name,
            Question.AGE: self._validate_age,
            Question.DATE: self._validate_date,
        }
        result = validators[flow.last_question_asked](user_input)
        if not result.is_valid:
            await say(result.message or "")
        elif flow.last_question_asked == Question.NAME:
            profile.name = result.value
            await say(f"Hi {profile.name}", "How old are you?")
            flow.last_question_asked = Question.AGE
        elif flow.last_question_asked == Question.AGE:
            profile.age = result.value
            await say(f"I have your age as {profile.age}.", "When is your flight?")
            flow.last_question_asked = Question.DATE
        else:
            profile.date = result.value
            await say(
                f"Your cab ride to the airport is scheduled for {profile.date}.",
                f"Thanks for completing the booking {profile.name}.",
                "Type anything to run the bot again.",
            )
            flow.last_question_asked = Question.NONE

    def _validate_name(self, user_input: str) -> ValidationResult:
        if not user_input:
            return ValidationResult(
                message="Please enter a name that contains at least one character."
            )
        return ValidationResult(is_valid=True, value=user_input)

    def _validate_age(self, user_input: str) -> ValidationResult:
        # Digits or words: "12", "twelve", "a dozen".
        for found in recognize_number(user_input, ENGLISH):
            age = int(found.value)
            if 18 <= age <= 120:
                return ValidationResult(is_valid=True, value=age)
        return ValidationResult(message="Please enter an age between 18 and 120.")

    def _validate_date(self, user_input: str) -> ValidationResult:
        # "11/14/2018", "9pm", "tomorrow", "Sunday at 5pm": a date and/or a time.
        now = datetime.datetime.now()
        try:
            for resolution in recognize_datetime(user_input, now, ENGLISH):
                if resolution.value is None:
                    continue  # a span ("next month"), not a moment
                shape = "%Y-%m-%d" if len(resolution.value) == 10 else "%Y-%m-%d %H:%M:%S"
                candidate = datetime.datetime.strptime(resolution.value, shape)
                if (candidate - now).total_seconds() >= 3600:  # at least an hour out
                    return ValidationResult(is_valid=True, value=candidate.strftime("%m/%d/%y"))
            return ValidationResult(message="I'm sorry, please enter a date at least an hour out.")
        except ValueError:
            return ValidationResult(
                message="I'm sorry, I could not interpret that as an appropriate date. Please "
                "enter a date at least an hour out."
            )
