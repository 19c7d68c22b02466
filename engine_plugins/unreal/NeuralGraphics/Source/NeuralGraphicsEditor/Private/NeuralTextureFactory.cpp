#include "NeuralTextureFactory.h"

#include "EditorFramework/AssetImportData.h"
#include "Misc/FeedbackContext.h"
#include "Misc/FileHelper.h"
#include "Misc/Paths.h"
#include "NeuralTexture.h"
#include "NeuralTextureImport.h"
#include "ObjectTools.h"

UNeuralTextureFactory::UNeuralTextureFactory()
{
    SupportedClass = UNeuralTexture::StaticClass();
    bCreateNew = false;
    bEditorImport = true;
    bText = false;
    // A bundle is a folder NAME.ngasset/; import it by picking its manifest.json.
    Formats.Add(TEXT("json;ngsdk neural texture bundle (manifest.json of a .ngasset folder)"));
    ImportPriority = DefaultImportPriority + 10;
}

bool UNeuralTextureFactory::FactoryCanImport(const FString& Filename)
{
    if (!FPaths::GetCleanFilename(Filename).Equals(TEXT("manifest.json"), ESearchCase::IgnoreCase))
    {
        return false;
    }
    FString Text;
    // Cheap sniff; the loader does the full validation on import.
    return FFileHelper::LoadFileToString(Text, *Filename) && Text.Contains(TEXT("\"ngasset\"")) &&
           Text.Contains(TEXT("\"neural_texture\""));
}

UObject* UNeuralTextureFactory::FactoryCreateFile(UClass* InClass, UObject* InParent, FName InName, EObjectFlags Flags,
                                                  const FString& Filename, const TCHAR* Parms, FFeedbackContext* Warn,
                                                  bool& bOutOperationCanceled)
{
    const FString BundleDir = FPaths::GetPath(Filename);
    // The asset takes the bundle's folder name without .ngasset ("manifest" says nothing).
    FString Name = FPaths::GetCleanFilename(BundleDir);
    Name.RemoveFromEnd(TEXT(".ngasset"));
    if (InName.ToString().Equals(TEXT("manifest"), ESearchCase::IgnoreCase) && !Name.IsEmpty())
    {
        InName = FName(*ObjectTools::SanitizeObjectName(Name));
    }
    UNeuralTexture* Asset = NewObject<UNeuralTexture>(InParent, InClass, InName, Flags | RF_Transactional);
    FString Error;
    if (!NeuralTextureImport::Fill(*Asset, BundleDir, Error))
    {
        Warn->Logf(ELogVerbosity::Error, TEXT("ngsdk import refused: %s"), *Error);
        Asset->MarkAsGarbage();
        return nullptr;
    }
    Asset->AssetImportData->Update(Filename);
    return Asset;
}

bool UNeuralTextureFactory::CanReimport(UObject* Obj, TArray<FString>& OutFilenames)
{
    UNeuralTexture* Asset = Cast<UNeuralTexture>(Obj);
    if (Asset && Asset->AssetImportData)
    {
        Asset->AssetImportData->ExtractFilenames(OutFilenames);
        return true;
    }
    return false;
}

void UNeuralTextureFactory::SetReimportPaths(UObject* Obj, const TArray<FString>& NewReimportPaths)
{
    UNeuralTexture* Asset = Cast<UNeuralTexture>(Obj);
    if (Asset && NewReimportPaths.Num() == 1)
    {
        Asset->AssetImportData->UpdateFilenameOnly(NewReimportPaths[0]);
    }
}

EReimportResult::Type UNeuralTextureFactory::Reimport(UObject* Obj)
{
    UNeuralTexture* Asset = Cast<UNeuralTexture>(Obj);
    if (!Asset || !Asset->AssetImportData)
    {
        return EReimportResult::Failed;
    }
    const FString Filename = Asset->AssetImportData->GetFirstFilename();
    if (Filename.IsEmpty() || !FPaths::FileExists(Filename))
    {
        UE_LOG(LogTemp, Error, TEXT("ngsdk reimport: source %s not found"), *Filename);
        return EReimportResult::Failed;
    }
    FString Error;
    Asset->Modify();
    if (!NeuralTextureImport::Fill(*Asset, FPaths::GetPath(Filename), Error))
    {
        UE_LOG(LogTemp, Error, TEXT("ngsdk reimport refused: %s"), *Error);
        return EReimportResult::Failed;
    }
    Asset->AssetImportData->Update(Filename);
    Asset->PostEditChange();
    Asset->MarkPackageDirty();
    return EReimportResult::Succeeded;
}

int32 UNeuralTextureFactory::GetPriority() const
{
    return ImportPriority;
}
