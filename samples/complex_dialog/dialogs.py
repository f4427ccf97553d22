"""MainDialog > TopLevelDialog > ReviewSelectionDialog (which loops by replacing itself)."""

from __future__ import annotations

from samples.complex_dialog.data_models import UserProfile
from worker.bot import MessageFactory, UserState
from worker.bot.dialogs import (
    ComponentDialog,
    DialogTurnResult,
    WaterfallDialog,
    WaterfallStepContext,
)
from worker.bot.dialogs.choices import Choice, FoundChoice
from worker.bot.dialogs.prompts import ChoicePrompt, NumberPrompt, PromptOptions, TextPrompt


class ReviewSelectionDialog(ComponentDialog):
    COMPANIES_SELECTED = "value-companiesSelected"
    DONE_OPTION = "done"
    COMPANY_OPTIONS = (
        "Adatum Corporation",
        "Contoso Suites",
        "Graphic Design Institute",
        "Wide World Importers",
    )

    def __init__(self, dialog_id: str | None = None) -> None:
        super().__init__(dialog_id or ReviewSelectionDialog.__name__)
        self.add_dialog(ChoicePrompt(ChoicePrompt.__name__))
        self.add_dialog(
            WaterfallDialog(WaterfallDialog.__name__, [self.selection_step, self.loop_step])
        )
        self.initial_dialog_id = WaterfallDialog.__name__

    async def selection_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        # The options are the companies chosen so far (passed to replace_dialog), if any.
        selected: list[str] = step_context.options if step_context.options is not None else []
        step_context.values[self.COMPANIES_SELECTED] = selected
        if selected:
            message = (
                f"You have selected **{selected[0]}**. You can review an additional company, "
                f"or choose `{self.DONE_OPTION}` to finish. "
            )
        else:
            message = f"Please choose a company to review, or `{self.DONE_OPTION}` to finish."
        options = [c for c in self.COMPANY_OPTIONS if c not in selected[:1]] + [self.DONE_OPTION]
        return await step_context.prompt(
            ChoicePrompt.__name__,
            PromptOptions(
                prompt=MessageFactory.text(message),
                retry_prompt=MessageFactory.text("Please choose an option from the list."),
                choices=[Choice(value=option) for option in options],
            ),
        )

    async def loop_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        selected: list[str] = step_context.values[self.COMPANIES_SELECTED]
        choice: FoundChoice = step_context.result
        done = choice.value == self.DONE_OPTION
        if not done:
            selected.append(choice.value)
        if done or len(selected) >= 2:
            return await step_context.end_dialog(selected)
        # Start this dialog over (its waterfall, the initial dialog) with the choices so far.
        return await step_context.replace_dialog(WaterfallDialog.__name__, selected)


class TopLevelDialog(ComponentDialog):
    USER_INFO = "value-userInfo"  # where the waterfall's values keep the profile being built

    def __init__(self, dialog_id: str | None = None) -> None:
        super().__init__(dialog_id or TopLevelDialog.__name__)
        self.add_dialog(TextPrompt(TextPrompt.__name__))
        self.add_dialog(NumberPrompt(NumberPrompt.__name__))
        self.add_dialog(ReviewSelectionDialog(ReviewSelectionDialog.__name__))
        steps = [
            self.name_step,
            self.age_step,
            self.start_selection_step,
            self.acknowledgement_step,
        ]
        self.add_dialog(WaterfallDialog("WFDialog", steps))
        self.initial_dialog_id = "WFDialog"

    async def name_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        step_context.values[self.USER_INFO] = UserProfile()
        return await step_context.prompt(
            TextPrompt.__name__,
            PromptOptions(prompt=MessageFactory.text("Please enter your name.")),
        )

    async def age_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        profile: UserProfile = step_context.values[self.USER_INFO]
        profile.name = step_context.result
        return await step_context.prompt(
            NumberPrompt.__name__,
            PromptOptions(prompt=MessageFactory.text("Please enter your age.")),
        )

    async def start_selection_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        profile: UserProfile = step_context.values[self.USER_INFO]
        profile.age = step_context.result
        if profile.age < 25:
            await step_context.context.send_activity(
                MessageFactory.text("You must be 25 or older to participate.")
            )
            return await step_context.next([])  # no review selection: no companies
        return await step_context.begin_dialog(ReviewSelectionDialog.__name__)

    async def acknowledgement_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        profile: UserProfile = step_context.values[self.USER_INFO]
        profile.companies_to_review = step_context.result
        await step_context.context.send_activity(
            MessageFactory.text(f"Thanks for participating, {profile.name}.")
        )
        return await step_context.end_dialog(profile)


class MainDialog(ComponentDialog):
    def __init__(self, user_state: UserState) -> None:
        super().__init__(MainDialog.__name__)
        self.user_state = user_state
        self.add_dialog(TopLevelDialog(TopLevelDialog.__name__))
        self.add_dialog(WaterfallDialog("WFDialog", [self.initial_step, self.final_step]))
        self.initial_dialog_id = "WFDialog"

    async def initial_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        return await step_context.begin_dialog(TopLevelDialog.__name__)

    async def final_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        profile: UserProfile = step_context.result
        companies = " and ".join(profile.companies_to_review or []) or "no companies"
        await step_context.context.send_activity(
            MessageFactory.text(f"You are signed up to review {companies}.")
        )
        await self.user_state.create_property("UserProfile").set(step_context.context, profile)
        return await step_context.end_dialog()
