"""RootDialog: declares the slots to fill (a full name, an age, a shoe size, an address) and
echoes what was collected."""

from __future__ import annotations

from typing import Any

from samples.custom_dialogs.slot_filling import SlotDetails, SlotFillingDialog
from worker.bot import MessageFactory, UserState
from worker.bot.dialogs import (
    ComponentDialog,
    DialogTurnResult,
    NumberPrompt,
    PromptValidatorContext,
    WaterfallDialog,
    WaterfallStepContext,
)
from worker.bot.dialogs.prompts import TextPrompt

ENGLISH = "en-us"  # the sample's recognizers_text.Culture.English


class RootDialog(ComponentDialog):
    def __init__(self, user_state: UserState) -> None:
        super().__init__(RootDialog.__name__)
        self.user_state_accessor = user_state.create_property("result")

        fullname_slots = [
            SlotDetails("first", "text", prompt="Please enter your first name."),
            SlotDetails("last", "text", prompt="Please enter your last name."),
        ]
        address_slots = [
            SlotDetails("street", "text", prompt="Please enter the street address."),
            SlotDetails("city", "text", prompt="Please enter the city."),
            SlotDetails("zip", "text", prompt="Please enter the zip."),
        ]
        # Slots filled by slot-filling dialogs: dialogs nest.
        slots = [
            SlotDetails("fullname", "fullname"),
            SlotDetails("age", "number", prompt="Please enter your age."),
            SlotDetails(
                "shoesize",
                "shoesize",
                prompt="Please enter your shoe size.",
                retry_prompt="You must enter a size between 0 and 16. Half sizes are acceptable.",
            ),
            SlotDetails("address", "address"),
        ]
        self.add_dialog(SlotFillingDialog("address", address_slots))
        self.add_dialog(SlotFillingDialog("fullname", fullname_slots))
        self.add_dialog(TextPrompt("text"))
        self.add_dialog(NumberPrompt("number", default_locale=ENGLISH))
        self.add_dialog(
            NumberPrompt("shoesize", RootDialog.shoe_size_validator, default_locale=ENGLISH)
        )
        self.add_dialog(SlotFillingDialog("slot-dialog", slots))
        self.add_dialog(WaterfallDialog("waterfall", [self.start_dialog, self.process_result]))
        self.initial_dialog_id = "waterfall"

    async def start_dialog(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        return await step_context.begin_dialog("slot-dialog")

    async def process_result(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        result = step_context.result
        if isinstance(result, dict) and result:
            fullname: dict[str, Any] = result["fullname"]
            address: dict[str, Any] = result["address"]
            # Kept in user state, then shown.
            stored: dict[str, Any] = await self.user_state_accessor.get(step_context.context, dict)
            stored["data"] = {
                "fullname": f"{fullname.get('first')} {fullname.get('last')}",
                "shoesize": f"{result['shoesize']}",
                "address": f"{address['street']}, {address['city']}, {address['zip']}",
            }
            for shown in stored["data"].values():
                await step_context.context.send_activity(MessageFactory.text(shown))
        return await step_context.end_dialog()

    @staticmethod
    async def shoe_size_validator(prompt_context: PromptValidatorContext) -> bool:
        if not prompt_context.recognized.value:
            return False
        size = round(prompt_context.recognized.value, 1)
        # 0 to 16, whole or half sizes
        if 0 <= size <= 16 and (size * 2) % 1 == 0:
            prompt_context.recognized.value = size
            return True
        return False
