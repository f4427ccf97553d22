"""UserProfileDialog: seven waterfall steps, five kinds of prompt, two validators."""

from __future__ import annotations

from samples.multi_turn_prompt.data_models import UserProfile
from worker.bot import MessageFactory, UserState
from worker.bot.dialogs import ComponentDialog, DialogTurnResult, WaterfallDialog
from worker.bot.dialogs import WaterfallStepContext as Step
from worker.bot.dialogs.choices import Choice
from worker.bot.dialogs.prompts import (
    AttachmentPrompt,
    ChoicePrompt,
    ConfirmPrompt,
    NumberPrompt,
    PromptOptions,
    PromptValidatorContext,
    TextPrompt,
)


def _ask(text: str, retry: str | None = None) -> PromptOptions:
    return PromptOptions(
        prompt=MessageFactory.text(text),
        retry_prompt=MessageFactory.text(retry) if retry else None,
    )


class UserProfileDialog(ComponentDialog):
    def __init__(self, user_state: UserState) -> None:
        super().__init__(UserProfileDialog.__name__)
        self.user_profile_accessor = user_state.create_property("UserProfile")
        steps = [
            self.transport_step,
            self.name_step,
            self.name_confirm_step,
            self.age_step,
            self.picture_step,
            self.summary_step,
            self.confirm_step,
        ]
        self.add_dialog(WaterfallDialog(WaterfallDialog.__name__, steps))
        self.add_dialog(TextPrompt(TextPrompt.__name__))
        self.add_dialog(NumberPrompt(NumberPrompt.__name__, UserProfileDialog.age_prompt_validator))
        self.add_dialog(ChoicePrompt(ChoicePrompt.__name__))
        self.add_dialog(ConfirmPrompt(ConfirmPrompt.__name__))
        self.add_dialog(
            AttachmentPrompt(AttachmentPrompt.__name__, UserProfileDialog.picture_prompt_validator)
        )
        self.initial_dialog_id = WaterfallDialog.__name__

    async def transport_step(self, step_context: Step) -> DialogTurnResult:
        # Each step ends by prompting (the next step runs on the user's answer) or by ending.
        options = _ask("Please enter your mode of transport.")
        options.choices = [Choice("Car"), Choice("Bus"), Choice("Bicycle")]
        return await step_context.prompt(ChoicePrompt.__name__, options)

    async def name_step(self, step_context: Step) -> DialogTurnResult:
        step_context.values["transport"] = step_context.result.value
        return await step_context.prompt(TextPrompt.__name__, _ask("Please enter your name."))

    async def name_confirm_step(self, step_context: Step) -> DialogTurnResult:
        step_context.values["name"] = step_context.result
        await step_context.context.send_activity(
            MessageFactory.text(f"Thanks {step_context.result}")
        )
        return await step_context.prompt(
            ConfirmPrompt.__name__, _ask("Would you like to give your age?")
        )

    async def age_step(self, step_context: Step) -> DialogTurnResult:
        if not step_context.result:
            return await step_context.next(-1)  # no age: skip the number prompt
        return await step_context.prompt(
            NumberPrompt.__name__,
            _ask(
                "Please enter your age.",
                "The value entered must be greater than 0 and less than 150.",
            ),
        )

    async def picture_step(self, step_context: Step) -> DialogTurnResult:
        age = step_context.result
        step_context.values["age"] = age
        said = "No age given." if age == -1 else f"I have your age as {age}."
        await step_context.context.send_activity(MessageFactory.text(said))
        if step_context.context.activity.channel_id == "msteams":
            # Teams attachments need more than this prompt handles.
            await step_context.context.send_activity(
                "Skipping attachment prompt in Teams channel..."
            )
            return await step_context.next(None)
        return await step_context.prompt(
            AttachmentPrompt.__name__,
            _ask(
                "Please attach a profile picture (or type any message to skip).",
                "The attachment must be a jpeg/png image file.",
            ),
        )

    async def summary_step(self, step_context: Step) -> DialogTurnResult:
        step_context.values["picture"] = step_context.result[0] if step_context.result else None
        # The class is the default factory; the changes are saved by DialogBot.on_turn.
        profile = await self.user_profile_accessor.get(step_context.context, UserProfile)
        profile.transport = step_context.values["transport"]
        profile.name = step_context.values["name"]
        profile.age = step_context.values["age"]
        profile.picture = step_context.values["picture"]

        summary = (
            f"I have your mode of transport as {profile.transport} and your name as {profile.name}."
        )
        if profile.age != -1:
            summary += f" And age as {profile.age}."
        await step_context.context.send_activity(MessageFactory.text(summary))
        if profile.picture:
            await step_context.context.send_activity(
                MessageFactory.attachment(profile.picture, "This is your profile picture.")
            )
        else:
            await step_context.context.send_activity(
                "A profile picture was saved but could not be displayed here."
            )
        return await step_context.prompt(ConfirmPrompt.__name__, _ask("Is this ok?"))

    async def confirm_step(self, step_context: Step) -> DialogTurnResult:
        kept = (
            "Your profile saved successfully."
            if step_context.result
            else ("Your profile will not be kept.")
        )
        await step_context.context.send_activity(MessageFactory.text(f"Thanks. {kept}"))
        return await step_context.end_dialog()

    @staticmethod
    async def age_prompt_validator(prompt_context: PromptValidatorContext) -> bool:
        recognized = prompt_context.recognized
        return bool(recognized.succeeded and 0 < recognized.value < 150)

    @staticmethod
    async def picture_prompt_validator(prompt_context: PromptValidatorContext) -> bool:
        if not prompt_context.recognized.succeeded:
            await prompt_context.context.send_activity(
                "No attachments received. Proceeding without a profile picture..."
            )
            return True  # no attachment is fine: the profile goes without a picture
        images = [
            attachment
            for attachment in prompt_context.recognized.value
            if attachment.content_type in ("image/jpeg", "image/png")
        ]
        prompt_context.recognized.value = images
        return len(images) > 0  # none that is an image: the retry prompt is sent
