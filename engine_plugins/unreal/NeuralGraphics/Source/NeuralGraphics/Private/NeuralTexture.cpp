#include "NeuralTexture.h"

#if WITH_EDITORONLY_DATA
#include "EditorFramework/AssetImportData.h"
#endif
#include "NeuralGraphicsLibrary.h"

void UNeuralTexture::PostLoad()
{
    Super::PostLoad();
    if (bDecodeOnLoad && !HasAnyFlags(RF_ClassDefaultObject))
    {
        FString Error;
        UNeuralGraphicsLibrary::DecodeToTextures(this, Error);
        if (!Error.IsEmpty())
        {
            UE_LOG(LogTemp, Error, TEXT("NeuralGraphics: %s"), *Error);
        }
    }
}

#if WITH_EDITORONLY_DATA
void UNeuralTexture::PostInitProperties()
{
    if (!HasAnyFlags(RF_ClassDefaultObject))
    {
        AssetImportData = NewObject<UAssetImportData>(this, TEXT("AssetImportData"));
    }
    Super::PostInitProperties();
}

void UNeuralTexture::GetAssetRegistryTags(TArray<FAssetRegistryTag>& OutTags) const
{
    if (AssetImportData)
    {
        OutTags.Add(FAssetRegistryTag(SourceFileTagName(), AssetImportData->GetSourceData().ToJson(),
                                      FAssetRegistryTag::TT_Hidden));
    }
    Super::GetAssetRegistryTags(OutTags);
}
#endif
